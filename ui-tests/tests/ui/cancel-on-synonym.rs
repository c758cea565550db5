// The word a user reaches for, `shutdown`, leads to `cancel_on`.
use taskgroup::{ErrorGroup, group};

async fn ingest() -> Result<(), std::io::Error> {
    Ok(())
}

async fn run(stop: tokio::sync::oneshot::Receiver<()>) -> Result<(), ErrorGroup> {
    group! {
        #![shutdown = stop]
        _ = ingest();
    }
    Ok(())
}

fn main() {}
