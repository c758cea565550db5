// A `spawn` task runs on the runtime's workers: it must be `'static`, so it cannot borrow a
// local. (Without `spawn`, the same task runs in place and may borrow.)

use taskgroup::{ErrorGroup, group};

async fn count(text: &str) -> Result<usize, std::io::Error> {
    Ok(text.len())
}

async fn f() -> Result<usize, ErrorGroup> {
    let text = String::from("borrowed");
    group! {
        n = spawn count(&text);
    }
    Ok(n)
}

fn main() {}
