// Tasks take no attributes: a `#[cfg]` cannot remove a task from a group.

use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        #[cfg(test)]
        a = fetch(1);
        b = fetch(2);
    }
    Ok(a + b)
}

fn main() {}
