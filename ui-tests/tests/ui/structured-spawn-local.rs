use taskgroup::structured;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[structured]
async fn f() {
    let _detached = tokio::task::spawn_local(fetch());
}

fn main() {}
