use taskgroup::group;

struct NotAnError;

async fn compute() -> Result<u32, NotAnError> {
    Ok(1)
}

async fn run() -> Result<u32, taskgroup::ErrorGroup> {
    group! {
        a = compute();
    }
    Ok(a)
}

fn main() {
    let _ = run();
}
