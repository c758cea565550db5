use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        #![timeuot = std::time::Duration::from_secs(1)]
        a = fetch();
    }
    Ok(a)
}

fn main() {}
