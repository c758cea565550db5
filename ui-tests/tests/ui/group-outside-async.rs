// A group is awaited where it is written: it needs an `async` function, closure or block.

use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch();
    }
    Ok(a)
}

fn main() {}
