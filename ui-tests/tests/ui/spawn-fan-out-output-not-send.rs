// The values of a `spawn` fan-out cross threads too: each must be `Send`.

use std::rc::Rc;

use taskgroup::{ErrorGroup, group};

async fn shared(n: u32) -> Result<Rc<u32>, std::io::Error> {
    Ok(Rc::new(n))
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        all = for n in 0..3 => spawn shared(n);
    }
    let _ = all;
    Ok(())
}

fn main() {}
