// The scope handle cannot be moved into `tokio::spawn`, whose task must be `'static`.

async fn f() {
    let _ = taskgroup::scope(async |s| {
        tokio::spawn(async move {
            s.spawn(async { Ok::<_, std::io::Error>(()) });
        });
        Ok::<_, std::io::Error>(())
    })
    .await;
}

fn main() {}
