// A task ends as cancelled with an error type that holds a `Cancelled` as itself
// (`Box<dyn Error + Send + Sync>`); `std::io::Error` cannot.
async fn worker() -> Result<u32, std::io::Error> {
    let why = taskgroup::cancelled().await;
    Err(taskgroup::Cancelled::from(why).into())
}

fn main() {
    let _ = worker();
}
