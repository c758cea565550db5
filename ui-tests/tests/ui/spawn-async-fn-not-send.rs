// A `spawn` task that calls an `async fn` holding a non-`Send` value across an `.await`.

use std::rc::Rc;

use taskgroup::{ErrorGroup, group};

async fn shared(item: Rc<u32>) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(*item)
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        one = spawn shared(Rc::new(1));
    }
    let _ = one;
    Ok(())
}

fn main() {}
