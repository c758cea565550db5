// `.await` on a task is caught through a `macro_rules!` fragment too.

use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

macro_rules! one_task {
    ($name:ident = $task:expr) => {
        group! {
            $name = $task;
        }
    };
}

async fn f() -> Result<u32, ErrorGroup> {
    one_task!(a = fetch().await);
    Ok(a)
}

fn main() {}
