//! Docker's memory sizes: `RAMInBytes` of docker/go-units, binary multiples.

use crate::error::ParseSizeError;

/// Parse a size the way Docker's `--memory` does: a number (decimals allowed), an optional
/// space, then an optional unit `k`, `m`, `g`, `t`, `p` (powers of 1024), optionally followed
/// by `i` and/or `b`; case-insensitive. A plain number or `b` means bytes. Fractions of a byte
/// are dropped (`"1.5k"` = 1536).
///
/// ```
/// assert_eq!(box_cgroup::parse_size("200m"), Ok(200 * 1024 * 1024));
/// assert_eq!(box_cgroup::parse_size("1GiB"), Ok(1 << 30));
/// assert!(box_cgroup::parse_size("12 parsecs").is_err());
/// ```
pub fn parse_size(input: &str) -> Result<u64, ParseSizeError> {
    let invalid = || ParseSizeError::Invalid(input.to_string());
    let s = input.trim();
    let int_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if int_end == 0 {
        return Err(invalid());
    }
    let (int_part, rest) = s.split_at(int_end);
    let (frac_part, rest) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            if end == 0 {
                return Err(invalid());
            }
            r.split_at(end)
        }
        None => ("", rest),
    };
    // Docker allows exactly one optional space between number and unit.
    let unit = rest.strip_prefix(' ').unwrap_or(rest);
    let mul = multiplier(unit).ok_or_else(|| {
        if unit.chars().all(|c| c.is_ascii_alphabetic()) && !unit.is_empty() {
            ParseSizeError::UnknownUnit {
                input: input.to_string(),
                unit: unit.to_string(),
            }
        } else {
            invalid()
        }
    })?;
    let int: u128 = int_part
        .parse()
        .map_err(|_| ParseSizeError::Overflow(input.to_string()))?;
    // Keep 19 fractional digits at most: beyond that they are worth less than a byte.
    let frac_digits = &frac_part[..frac_part.len().min(19)];
    let frac: u128 = if frac_digits.is_empty() {
        0
    } else {
        frac_digits.parse().map_err(|_| invalid())?
    };
    let scale = 10u128.pow(frac_digits.len() as u32);
    let bytes = int
        .checked_mul(mul)
        .and_then(|v| v.checked_add(frac * mul / scale))
        .filter(|v| *v <= u128::from(u64::MAX))
        .ok_or_else(|| ParseSizeError::Overflow(input.to_string()))?;
    Ok(bytes as u64)
}

fn multiplier(unit: &str) -> Option<u128> {
    let lower = unit.to_ascii_lowercase();
    let mut chars = lower.chars().peekable();
    let power = match chars.peek() {
        Some('k') => 1,
        Some('m') => 2,
        Some('g') => 3,
        Some('t') => 4,
        Some('p') => 5,
        _ => 0,
    };
    if power > 0 {
        chars.next();
    }
    // As in go-units' pattern `([kmgtp])?i?b?`.
    if chars.peek() == Some(&'i') {
        chars.next();
    }
    if chars.peek() == Some(&'b') {
        chars.next();
    }
    if chars.next().is_some() {
        return None;
    }
    Some(1u128 << (10 * power))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_units() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("1024", 1024),
            ("32b", 32),
            ("32B", 32),
            ("512k", 512 * 1024),
            ("512kb", 512 * 1024),
            ("512KiB", 512 * 1024),
            ("512 k", 512 * 1024),
            ("200m", 200 << 20),
            ("200M", 200 << 20),
            ("200MB", 200 << 20),
            ("1g", 1 << 30),
            ("1Gi", 1 << 30),
            ("2t", 2 << 40),
            ("1p", 1 << 50),
            ("1.5k", 1536),
            ("0.5g", 512 << 20),
            ("1.0000000000000000000009", 1),
            (" 64m ", 64 << 20),
        ];
        for (input, want) in cases {
            assert_eq!(parse_size(input), Ok(*want), "{input}");
        }
    }

    #[test]
    fn refused() {
        for bad in [
            "", "m", "-1", "1.", ".5m", "1.2.3m", "1  m", "1mm", "1 x", "0x10",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            parse_size("12 parsecs"),
            Err(ParseSizeError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_size("99999999999p"),
            Err(ParseSizeError::Overflow(_))
        ));
    }
}
