// A `spawn` task's value crosses threads too: it must be `Send`.

use std::rc::Rc;

use taskgroup::{ErrorGroup, group};

async fn shared() -> Result<Rc<u32>, std::io::Error> {
    Ok(Rc::new(1))
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        value = spawn shared();
    }
    let _ = value;
    Ok(())
}

fn main() {}
