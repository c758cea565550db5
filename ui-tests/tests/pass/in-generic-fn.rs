// A group in a generic function: tasks and bindings of generic types, a generic `except*`
// error type, and a generic error type for the remainder.

use std::future::Future;

use taskgroup::{ErrorGroup, group};

async fn both<A, B, E>(a: A, b: B) -> Result<(A::Output, B::Output), E>
where
    A: IntoResult,
    B: IntoResult,
    E: From<ErrorGroup>,
{
    group! {
        x = a.run();
        y = b.run();
    }
    Ok((x, y))
}

trait IntoResult {
    type Output;
    fn run(self) -> impl Future<Output = Result<Self::Output, std::io::Error>>;
}

impl IntoResult for u32 {
    type Output = u32;
    async fn run(self) -> Result<u32, std::io::Error> {
        Ok(self)
    }
}

async fn caught<T, X>(fut: impl Future<Output = Result<T, X>>) -> Result<Option<T>, ErrorGroup>
where
    X: std::error::Error + Send + Sync + 'static,
{
    group! {
        v = async { fut.await.map(Some) };
        except* X => None,
    }
    Ok(v)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    assert_eq!(both::<_, _, ErrorGroup>(1, 2).await?, (1, 2));
    let failed = caught(async { Err::<u32, _>(std::io::Error::other("x")) }).await?;
    assert_eq!(failed, None);
    Ok(())
}
