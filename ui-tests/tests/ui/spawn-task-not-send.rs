use std::rc::Rc;

use taskgroup::{ErrorGroup, group};

async fn step() -> Result<(), std::io::Error> {
    Ok(())
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        a = spawn async {
            let local = Rc::new(1);
            step().await?;
            Ok::<_, std::io::Error>(*local)
        };
    }
    let _ = a;
    Ok(())
}

fn main() {}
