// An arm `=> Err(..)` that meant `return Err(..)`.
use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch();
        b = fetch();
        except* std::io::Error as errors => Err(errors.into()),
    }
    Ok(a + b)
}

fn main() {}
