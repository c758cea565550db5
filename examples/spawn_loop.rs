//! Five tasks spawned in a loop, each reporting how long it slept.
//!
//! Mirrors the seeds' "Spawning Tasks with TaskGroup.create_task()": `for i in range(5):
//! tasks.append(tg.create_task(work(i, 0.5 + i * 0.1)))`, then `task.result()` after the
//! block. The seed's 0.5 s .. 0.9 s are 50 ms .. 90 ms here.
//!
//! Two ways to write it: the imperative [`taskgroup::scope`], whose handle spawns in a loop and
//! returns a handle per task (Python's `tg.create_task`), and the `group!` fan-out, which binds
//! the results in input order.
//!
//! Run it with `cargo run --example spawn_loop`.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::{Instant, sleep};

async fn work(task_id: u32, duration: Duration) -> Result<String, std::io::Error> {
    let start = Instant::now();
    sleep(duration).await;
    let elapsed = start.elapsed();
    // Rounded to 10 ms, as the seed rounds to a tenth of its seconds.
    let rounded = (elapsed.as_millis() + 5) / 10 * 10;
    Ok(format!("Task {task_id} slept for {rounded} ms"))
}

fn duration(i: u32) -> Duration {
    Duration::from_millis(50 + u64::from(i) * 10)
}

#[tokio::main]
async fn main() -> Result<(), ErrorGroup> {
    // async with asyncio.TaskGroup() as tg:
    //     tasks = []
    //     for i in range(5):
    //         tasks.append(tg.create_task(work(i, 0.5 + i * 0.1)))
    let start = Instant::now();
    let tasks = taskgroup::scope(async |s| {
        let mut tasks = Vec::new();
        for i in 0..5 {
            tasks.push(s.spawn(work(i, duration(i))));
        }
        Ok::<_, std::io::Error>(tasks)
    })
    .await?;
    // The scope waited for all five; each handle now holds its task's value.
    for task in tasks {
        if let Ok(result) = task.await {
            println!("{result}");
        }
    }
    println!(
        "all five ran concurrently: {} ms in all, not 350",
        start.elapsed().as_millis()
    );

    // The same as a fan-out: one task per item, the results in input order.
    println!();
    group! {
        results = for i in 0..5 => work(i, duration(i));
    }
    for result in &results {
        println!("{result}");
    }
    Ok(())
}
