use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f(secs: u64) -> Result<(), ErrorGroup> {
    group! {
        #![timeout = secs]
        a = fetch();
    }
    let _ = a;
    Ok(())
}

fn main() {}
