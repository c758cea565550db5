// `Ready::started` takes `self`: a task cannot say it started twice.
async fn f() -> Result<(), taskgroup::ErrorGroup> {
    taskgroup::scope!(async |s| {
        let port = s
            .start(async |ready: taskgroup::Ready<u16>| {
                ready.started(1);
                ready.started(2);
                Ok::<_, std::io::Error>(())
            })
            .await?;
        Ok::<_, taskgroup::BoxError>(port)
    })
    .await?;
    Ok(())
}

fn main() {}
