use taskgroup::{ErrorGroup, group};

async fn f() -> Result<(), ErrorGroup> {
    group! {}
    Ok(())
}

fn main() {}
