use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn other() -> Result<u32, std::fmt::Error> {
    Ok(2)
}

// Not a `std::error::Error`: it cannot travel in one group with the errors no arm handled.
#[derive(Debug)]
enum AppError {
    Io(ErrorGroup<std::io::Error>),
    Other(ErrorGroup),
}

impl From<ErrorGroup> for AppError {
    fn from(errors: ErrorGroup) -> Self {
        AppError::Other(errors)
    }
}

async fn f() -> Result<u32, AppError> {
    group! {
        a = fetch();
        b = other();
        except* std::io::Error as errs => return Err(AppError::Io(errs)),
    }
    Ok(a + b)
}

fn main() {}
