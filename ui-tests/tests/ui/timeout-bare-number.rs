use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        #![timeout = 5]
        a = fetch();
    }
    Ok(a)
}

fn main() {}
