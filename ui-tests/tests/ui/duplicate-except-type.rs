use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch();
        except* std::io::Error => 0,
        except* std::io::Error as again => again.len() as u32,
    }
    Ok(a)
}

fn main() {}
