// Every mistake is reported in one build: three bad tasks, three errors.

use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch(1).await;
        b = ;
        c = async { tokio::spawn(fetch(3)).await.unwrap() };
        d = fetch(4);
    }
    Ok(a + b + c + d)
}

fn main() {}
