use std::time::Duration;

use taskgroup::group;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

// With a timeout, a settle-mode group raises its deadline with `?`.
async fn f() -> u32 {
    group! {
        #![mode = settle]
        #![timeout = Duration::from_secs(1)]
        a = fetch();
    }
    a.unwrap_or(0)
}

fn main() {}
