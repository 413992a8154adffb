//! The called number of a received message, as the directory is asked for it.
//!
//! Contract: [`query`] normalises the number as signalled with the site's plan (an error if
//! it is not a number). A number signalled in **spaced canonical form** — `+`, then groups of
//! digits separated by single spaces, at least two groups, e.g. `+49 40 5551234 77` — is
//! looked up exactly as signalled: `${UMS}` is that text, `${UMS}_wHTSPC` the same without
//! spaces. In a directory shared by several sites each site's numbers are spaced by *its*
//! plan, so re-spacing such a number by this site's plan would find nobody. Any other form
//! (compact E.164, national, an extension alone, other separators) is spaced by this site's
//! plan.

use umsgate_domain::{NumberError, SitePlan};

use crate::directory::NumberQuery;

/// See the module contract.
pub(crate) fn query(plan: &SitePlan, signalled: &str) -> Result<NumberQuery, NumberError> {
    let number = plan.normalise(signalled)?;
    let trimmed = signalled.trim();
    if spaced_canonical(trimmed) {
        // Normalising a `+` number only removes the spaces, so the digits are the same and
        // `as_signalled` cannot refuse; should it, the plan's spacing is still an answer.
        if let Some(q) = NumberQuery::as_signalled(number.clone(), trimmed) {
            return Ok(q);
        }
    }
    Ok(NumberQuery::by_plan(plan, number))
}

/// `+`, then groups of ASCII digits separated by single spaces, at least two groups.
fn spaced_canonical(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('+') else {
        return false;
    };
    let mut groups = 0;
    for g in rest.split(' ') {
        if g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        groups += 1;
    }
    groups >= 2
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use umsgate_domain::SitePlanFields;

    fn plan() -> SitePlan {
        SitePlan::new(SitePlanFields {
            country_code: "49".into(),
            area_code: "8142".into(),
            subscriber: "4799".into(),
            extension_digits: 3,
            international_prefix: "00".into(),
            national_prefix: "0".into(),
            outside_line: String::new(),
        })
        .unwrap()
    }

    #[test]
    fn a_spaced_canonical_number_is_looked_up_as_signalled() {
        for (signalled, spaced) in [
            ("+49 40 5551234 77", "+49 40 5551234 77"),
            (" +49 30 9876543 21 ", "+49 30 9876543 21"),
            ("+49 8142 4799 123", "+49 8142 4799 123"),
            ("+33 1 42 68 53 00", "+33 1 42 68 53 00"),
        ] {
            let q = query(&plan(), signalled).unwrap();
            assert_eq!(q.spaced(), spaced, "{signalled:?}");
            assert_eq!(q.number().e164(), spaced.replace(' ', ""), "{signalled:?}");
        }
    }

    #[test]
    fn any_other_form_is_spaced_by_the_site_plan() {
        let p = plan();
        for signalled in [
            "+4981424799123",
            "081424799123",
            "08142 4799123",
            "123",
            "+49  8142 4799123",
            "+49 8142-4799123",
            "+49 (8142) 4799123",
            "+49\t8142 4799123",
        ] {
            let q = query(&p, signalled).unwrap();
            assert_eq!(q.spaced(), "+49 8142 4799123", "{signalled:?}");
            assert_eq!(q.number().e164(), "+4981424799123");
        }
        assert_eq!(
            query(&p, "+4940555123477").unwrap().spaced(),
            p.spaced(&p.normalise("+4940555123477").unwrap())
        );
        assert!(query(&p, "").is_err());
        assert!(query(&p, "+49 40 abc").is_err());
    }
}
