use taskgroup::{ErrorGroup, group};

async fn count() -> usize {
    3
}

async fn f() -> Result<usize, ErrorGroup> {
    group! {
        n = count();
    }
    Ok(n)
}

fn main() {}
