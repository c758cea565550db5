// A task spawned on the workers with `spawn_parallel` is `'static`: it cannot capture the
// scope handle (an in-place task from `s.spawn` can).

async fn f() {
    let _ = taskgroup::scope(async |s| {
        s.spawn_parallel(async move {
            s.spawn(async { Ok::<_, std::io::Error>(()) });
            Ok::<_, std::io::Error>(())
        });
        Ok::<_, std::io::Error>(())
    })
    .await;
}

fn main() {}
