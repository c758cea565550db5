use taskgroup::{ErrorGroup, group};

fn compute() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        a = compute();
    }
    let _ = a;
    Ok(())
}

fn main() {}
