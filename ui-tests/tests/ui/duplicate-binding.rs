use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        user = fetch(1);
        orders = fetch(2);
        user = fetch(3);
    }
    Ok(user + orders)
}

fn main() {}
