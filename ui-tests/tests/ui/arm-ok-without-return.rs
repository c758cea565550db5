// An arm `=> Ok(..)` that meant `return Ok(..)`.
use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch();
        except* std::io::Error => Ok(0),
    }
    Ok(a)
}

fn main() {}
