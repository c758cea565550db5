// `#![cancel_on]` takes a future: the token's `cancelled()`, not the token.
use taskgroup::{ErrorGroup, group};
use tokio_util::sync::CancellationToken;

async fn ingest() -> Result<(), std::io::Error> {
    Ok(())
}

async fn run(shutdown: CancellationToken) -> Result<(), ErrorGroup> {
    group! {
        #![cancel_on = shutdown]
        _ = ingest();
    }
    Ok(())
}

fn main() {}
