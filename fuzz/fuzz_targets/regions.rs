//! Region names: `regions::is_region_shaped`, `regions::suggest`, `regions::lookup`, and
//! `--regions` through `diagnose::region::regions_to_scan`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ses_doctor::aws_setup::RegionSetting;
use ses_doctor::diagnose::region::regions_to_scan;
use ses_doctor::regions;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let shaped = regions::is_region_shaped(text);
    if shaped {
        // A region becomes part of host names (email-smtp.<region>.amazonaws.com).
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        assert!(!text.starts_with('-') && !text.ends_with('-') && !text.contains("--"));
    }
    let setting = RegionSetting {
        raw: Some(text.to_owned()),
        source: "fuzz",
    };
    assert_eq!(setting.valid().is_some(), shaped);
    if let Some(entry) = regions::lookup(text) {
        assert!(shaped, "{text:?} is in the table but not region-shaped");
        assert_eq!(regions::suggest(text), Some(entry.name));
    }
    if let Some(s) = regions::suggest(text) {
        assert!(
            regions::lookup(s).is_some(),
            "suggested {s:?}, not in the table"
        );
    }

    // `--regions a,b,c` (clap splits at commas).
    let list: Vec<String> = text.split(',').map(str::to_owned).collect();
    if let Ok(scan) = regions_to_scan(Some(&list), None) {
        assert_eq!(scan.len(), list.len());
        assert!(scan
            .iter()
            .all(|r| r.ses && regions::lookup(r.name).is_some()));
    }
    // Without --regions: the SES regions of the configured region's partition.
    let scan = regions_to_scan(None, Some(text)).expect("a default scan");
    assert!(scan.iter().all(|r| r.ses));
});
