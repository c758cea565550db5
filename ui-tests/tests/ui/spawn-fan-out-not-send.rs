// Each item of a `spawn` fan-out runs on the workers: its future must be `Send`.

use std::rc::Rc;

use taskgroup::{ErrorGroup, group};

async fn shared(item: Rc<u32>) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(*item)
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        all = for n in 0..3 => spawn shared(Rc::new(n));
    }
    let _ = all;
    Ok(())
}

fn main() {}
