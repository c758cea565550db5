use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        a = async {
            let handle = tokio::spawn(fetch());
            handle.await.unwrap()
        };
    }
    let _ = a;
    Ok(())
}

fn main() {}
