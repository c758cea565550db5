use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        #![mode = supervised]
        a = fetch(1);
    }
    Ok(a)
}

fn main() {}
