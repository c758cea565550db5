use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        #![mode = settle]
        a = fetch();
        except* std::io::Error => Ok(0),
    }
    let _ = a;
    Ok(())
}

fn main() {}
