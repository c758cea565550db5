use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch(1);
        #![limit = 2]
        b = fetch(2);
    }
    Ok(a + b)
}

fn main() {}
