use super::*;
use clap::CommandFactory;

#[test]
fn the_command_line_is_well_formed() {
    Cli::command().debug_assert();
}

fn parse(args: &[&str]) -> Result<MaxRpsArgs, String> {
    let mut full = vec!["loadgen", "max-rps", "--plugin", "synthetic"];
    full.extend_from_slice(args);
    match Cli::try_parse_from(full) {
        Ok(Cli {
            command: Command::MaxRps(args),
        }) => Ok(*args),
        Ok(_) => unreachable!(),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn defaults_match_the_spec() {
    let c = parse(&[]).unwrap().config().unwrap();
    assert_eq!(
        c,
        RunConfig::new("synthetic"),
        "the flags' defaults are RunConfig's"
    );
    assert_eq!(c.phases.warmup, Duration::from_secs(10));
    assert_eq!(c.phases.hold, Duration::from_secs(30));
    assert_eq!(c.phases.drain, Duration::from_secs(2));
    assert_eq!(c.phases.cooldown, Duration::from_secs(5));
    assert!(c.rates.stop_on_trip);
    assert_eq!(c.slo.p95, Duration::from_millis(100));
    assert_eq!(c.slo.p99, Duration::from_millis(250));
    assert_eq!(
        (c.slo.error_rate, c.slo.loss_rate, c.slo.rate_tolerance),
        (0.001, 0.001, 0.05)
    );
    assert_eq!(c.slo.pending_growth, 1000);
    assert_eq!(c.seed, 42);
    assert_eq!(c.rates.search, SearchKind::Fixed);
    assert_eq!(c.rates.confirm, None, "resolved by the search kind");
    assert_eq!(c.rates.check(), Ok(()));
}

#[test]
fn adaptive_flags_parse() {
    let a = parse(&[
        "--search",
        "adaptive",
        "--start-rps",
        "500",
        "--max-rps",
        "40k",
        "--growth",
        "1.5",
        "--precision",
        "0.01",
        "--max-steps",
        "20",
        "--confirm",
        "3",
    ])
    .unwrap();
    let r = a.config().unwrap().rates;
    assert_eq!(r.search, SearchKind::Adaptive);
    assert_eq!((r.start_rps, r.max_rps), (Some(500), Some(40_000)));
    assert_eq!((r.growth, r.precision), (Some(1.5), Some(0.01)));
    assert_eq!((r.max_steps, r.confirm), (Some(20), Some(3)));
    assert_eq!(r.check(), Ok(()));
}

#[test]
fn search_flags_that_do_not_belong_together_are_refused() {
    let table: &[(&[&str], &str)] = &[
        (
            &["--search", "adaptive", "--steps", "1k,2k"],
            "--steps and --search adaptive conflict",
        ),
        (
            &["--start-rps", "500"],
            "--start-rps only applies to --search adaptive",
        ),
        (
            &["--max-rps", "5k"],
            "--max-rps only applies to --search adaptive",
        ),
        (
            &["--search", "fixed", "--growth", "3"],
            "--growth only applies",
        ),
        (&["--precision", "0.1"], "--precision only applies"),
        (&["--max-steps", "5"], "--max-steps only applies"),
    ];
    for (args, want) in table {
        let err = parse(args)
            .unwrap()
            .config()
            .unwrap()
            .rates
            .check()
            .unwrap_err();
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let confirm_on_a_ladder = parse(&["--steps", "1k", "--confirm", "2"]).unwrap();
    assert_eq!(confirm_on_a_ladder.config().unwrap().rates.check(), Ok(()));
}

#[test]
fn flags_parse() {
    let a = parse(&[
        "--steps",
        "1k,2k",
        "-o",
        "capacity=3000",
        "--stop-on-trip",
        "false",
        "--hold",
        "3s",
    ])
    .unwrap();
    let c = a.config().unwrap();
    assert_eq!(c.rates.steps, Some(StepList(vec![1000, 2000])));
    assert_eq!(
        c.options,
        [("capacity".to_string(), "3000".to_string())].into()
    );
    assert!(!c.rates.stop_on_trip);
    assert_eq!(c.phases.hold, Duration::from_secs(3));
}

#[test]
fn bad_values_are_refused_with_the_reason() {
    let table: &[(&[&str], &str)] = &[
        (
            &["--steps", "2k,1k"],
            "steps must be strictly ascending: 2000 then 1000",
        ),
        (&["--steps", "0"], "step '0' must be > 0"),
        (&["--steps", "abc"], "step 'abc' is not a rate"),
        (&["--steps", ""], "empty step list"),
        (&["--slo-p95", "0"], "must be > 0"),
        (&["--slo-p95", "0ms"], "must be > 0"),
        (&["--slo-error-rate", "0"], "must be > 0 and <= 1"),
        (&["--slo-loss-rate", "1.5"], "must be > 0 and <= 1"),
        (&["--slo-loss-rate", "nan"], "must be > 0 and <= 1"),
        (&["--rate-tolerance", "1"], "must be > 0 and < 1"),
        (&["--steps", "1e30"], "above the highest rate loadgen paces"),
        (&["--steps", "200M"], "is not a rate"),
        (&["--max-rps", "100000001"], "above the highest rate"),
        (&["--hold", "0s"], "must be > 0"),
        (&["--drain=-1s"], "is not a duration"),
        (&["--warmup", "10"], "is not a duration"),
        (&["--slo-pending-growth=-1"], "must be > 0"),
        (&["--hold", "soon"], "'soon' is not a duration"),
        (&["-o", "capacity"], "expected KEY=VALUE, got 'capacity'"),
        (
            &["--search", "binary"],
            "invalid value 'binary' for '--search <HOW>'",
        ),
        (&["--start-rps", "0"], "must be > 0"),
        (&["--start-rps", "fast"], "'fast' is not a rate"),
        (&["--max-rps", "1.5"], "'1.5' is not a rate"),
        (&["--growth", "1"], "must be > 1"),
        (&["--growth", "0.5"], "must be > 1"),
        (&["--growth", "inf"], "must be > 1"),
        (&["--growth", "x"], "'x' is not a number"),
        (&["--precision", "0"], "must be > 0 and < 1"),
        (&["--precision", "1"], "must be > 0 and < 1"),
        (&["--max-steps", "0"], "must be > 0"),
        (&["--max-steps=-3"], "is not a whole number"),
        (&["--confirm=-1"], "invalid value '-1' for '--confirm <N>'"),
    ];
    for (args, want) in table {
        let err = parse(args).unwrap_err();
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
