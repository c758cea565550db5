use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        a = fetch();
        b = async {
            let _detached = tokio::task::spawn(fetch());
            Ok::<_, std::io::Error>(())
        };
    }
    let _ = (a, b);
    Ok(())
}

fn main() {}
