// `#[structured]` accepts structured spawning: a group's `spawn` tasks, `taskgroup::scope`'s
// `s.spawn` and `s.spawn_parallel`, `std::thread::scope`, and functions of the user's own
// that happen to be called `spawn`.

use taskgroup::{ErrorGroup, group, structured};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

fn spawn(n: u32) -> u32 {
    n
}

#[structured]
async fn fan_out() -> Result<u32, ErrorGroup> {
    let from_scope = taskgroup::scope(async |s| {
        let a = s.spawn(fetch(1));
        let b = s.spawn_parallel(fetch(2));
        Ok::<_, std::io::Error>(a.await.unwrap_or(0) + b.await.unwrap_or(0))
    })
    .await?;
    let from_threads = std::thread::scope(|s| s.spawn(|| spawn(3)).join().unwrap());
    group! {
        c = spawn fetch(4);
        d = fetch(spawn(5));
    }
    Ok(from_scope + from_threads + c + d)
}

struct Service;

#[structured]
impl Service {
    async fn run(&self) -> Result<u32, ErrorGroup> {
        fan_out().await
    }
}

trait Job {
    #[structured]
    async fn run(&self) -> Result<u32, ErrorGroup> {
        fan_out().await
    }

    async fn name(&self) -> &'static str;
}

struct Nightly;

impl Job for Nightly {
    #[structured]
    async fn name(&self) -> &'static str {
        "nightly"
    }
}

#[structured]
mod jobs {
    pub(crate) async fn run() -> Result<u32, taskgroup::ErrorGroup> {
        super::Service.run().await
    }
}

#[structured]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    assert_eq!(jobs::run().await?, 15);
    assert_eq!(Nightly.run().await?, 15);
    assert_eq!(Nightly.name().await, "nightly");
    Ok(())
}
