// A group in an async closure and in an async block.

use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    let base = 10;
    let sum = async |n: u32| -> Result<u32, ErrorGroup> {
        group! {
            a = fetch(n);
            b = fetch(base);
        }
        Ok(a + b)
    };
    assert_eq!(sum(1).await?, 11);

    let block = async move {
        group! {
            c = fetch(3);
        }
        Ok::<_, ErrorGroup>(c)
    };
    assert_eq!(block.await?, 3);

    // In a spawned task: an in-place group of `Send` tasks is itself `Send`.
    let handle = tokio::spawn(async {
        group! {
            d = fetch(4);
            e = spawn fetch(5);
        }
        Ok::<_, ErrorGroup>(d + e)
    });
    assert_eq!(handle.await.unwrap()?, 9);
    Ok(())
}
