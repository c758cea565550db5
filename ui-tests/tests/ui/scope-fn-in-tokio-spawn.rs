// The function form `taskgroup::scope(async |s| ..)` borrowing a local, inside `tokio::spawn`:
// rustc cannot prove the future `Send` (a compiler limit, rust-lang/rust#110338). The docs
// quote this message and point to `taskgroup::scope!`, whose future is `Send`.

async fn fetch(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

async fn total(ids: Vec<u32>) -> Result<u32, taskgroup::ErrorGroup> {
    let ids = &ids;
    taskgroup::scope(async |s| {
        let mut sum = 0;
        for id in ids {
            sum += s.spawn(fetch(*id)).await.unwrap_or(0);
        }
        Ok::<_, std::io::Error>(sum)
    })
    .await
}

fn main() {
    let _ = tokio::spawn(total(vec![1, 2]));
}
