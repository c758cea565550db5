use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch();
        except* String => 0,
    }
    Ok(a)
}

fn main() {}
