// The scope handle cannot be returned from its scope: it is branded with the scope's lifetime.

async fn f() {
    let _leaked = taskgroup::scope(async |s| Ok::<_, std::io::Error>(s)).await;
}

fn main() {}
