//! The report's start-up anatomy: per chain a table of what each step adds, the bar chart of the
//! same, and where `import numpy` spends its time (from environment.json).

use std::fmt::Write as _;

use super::charts::{Bar, BarGroup, GroupedBars, ValueFormat};
use super::escape::{code, text};
use crate::analysis::anatomy::AnatomyChain;
use crate::analysis::Analysis;
use crate::format::{percent, seconds, signed_seconds};

/// The Markdown section for scenario `index`, empty when it has no anatomy.
pub(crate) fn section(out: &mut String, report: &Analysis, index: usize) {
    let Some(chains) = report.anatomy.get(index).filter(|c| !c.is_empty()) else { return };
    let _ = writeln!(out, "### Start-up anatomy\n");
    let _ = writeln!(
        out,
        "Each step is a program of its own, measured like every other: what a step adds is its median wall time minus the step before it (a difference of medians, so small steps carry the noise of both).\n"
    );
    for chain in chains {
        let (Some(whole), Some(biggest)) = (chain.whole(), chain.biggest_piece()) else { continue };
        let _ = writeln!(
            out,
            "| step | what it runs | median wall [95% CI] | adds | share of {} | page faults |\n|---|---|---|---|---|---|",
            code(&whole.implementation)
        );
        for step in &chain.steps {
            let _ = writeln!(
                out,
                "| {} | {} | {} [{}–{}] | {} | {} | {} |",
                code(&step.implementation),
                text(&step.description),
                seconds(step.median_wall_seconds),
                seconds(step.ci_low_seconds),
                seconds(step.ci_high_seconds),
                signed_seconds(step.added_seconds),
                percent(step.share_of_whole),
                step.median_minor_faults.map_or("—".into(), crate::format::whole)
            );
        }
        // A step adds over the one before it: said so, since the biggest piece can be the whole
        // itself ("the biggest piece of rust's 658 µs is rust" read as nonsense).
        let before = chain.steps.iter().take_while(|s| !std::ptr::eq(*s, biggest)).last();
        let piece = match before {
            Some(before) => format!("what {} adds over {}", code(&biggest.implementation), code(&before.implementation)),
            None => format!("{} alone", code(&biggest.implementation)),
        };
        let _ = writeln!(
            out,
            "\nThe biggest piece of {}'s {} is {piece}: {} ({}).\n",
            code(&whole.implementation),
            seconds(whole.median_wall_seconds),
            signed_seconds(biggest.added_seconds),
            percent(biggest.share_of_whole)
        );
    }
    if let Some(profile) = report.environment.as_ref().and_then(|e| e.numpy_import_profile.as_ref()) {
        let _ = writeln!(
            out,
            "{} takes {} by Python's own account (`python -X importtime`, median of {} runs; the interpreter's start-up is not included). Its {} slowest modules by their own time:\n",
            code(&format!("import {}", profile.module)),
            seconds(profile.total_seconds),
            profile.runs,
            profile.slowest.len()
        );
        let _ = writeln!(out, "| module | self | cumulative |\n|---|---|---|");
        for module in &profile.slowest {
            let _ = writeln!(out, "| {} | {} | {} |", code(&module.name), seconds(module.self_seconds), seconds(module.cumulative_seconds));
        }
        let _ = writeln!(out);
    }
}

/// The one sentence the seed verdict borrows: the biggest piece of the first chain's whole. The
/// whole's own wall time is left out when `quoted` says the verdict already gave that program's
/// figure (from another scenario): one program, one figure.
pub(crate) fn biggest_piece_sentence(report: &Analysis, quoted: impl Fn(&str) -> bool) -> Option<String> {
    let (index, chain) = report.anatomy.iter().enumerate().find_map(|(index, chains)| chains.first().map(|c| (index, c)))?;
    let scenario = &report.plan.scenarios.get(index)?.name;
    let (whole, biggest) = (chain.whole()?, chain.biggest_piece()?);
    if quoted(&whole.implementation) {
        return Some(format!(
            "`{}` adds the most to `{}`: {}, {} of its wall time in scenario `{}`",
            biggest.implementation,
            whole.implementation,
            signed_seconds(biggest.added_seconds),
            percent(biggest.share_of_whole),
            scenario
        ));
    }
    Some(format!(
        "of {}'s {}, {} adds the most: {} ({} of it; scenario {})",
        code(&whole.implementation),
        seconds(whole.median_wall_seconds),
        code(&biggest.implementation),
        signed_seconds(biggest.added_seconds),
        percent(biggest.share_of_whole),
        code(scenario)
    ))
}

/// One chart per chain: each step's whole-process median with its CI, in the chain's order, so
/// the step between two bars is what the second adds (log scale when they differ by orders of
/// magnitude, as µs of exec and 100 ms of import do).
pub(crate) fn chart(scenario_name: &str, chain: &AnatomyChain) -> Option<GroupedBars> {
    let whole = chain.whole()?;
    let bars = chain
        .steps
        .iter()
        .map(|s| Bar {
            implementation: s.implementation.clone(),
            value: s.median_wall_seconds,
            ci: Some((s.ci_low_seconds, s.ci_high_seconds)),
        })
        .collect();
    Some(GroupedBars {
        title: format!("{scenario_name}: the pieces of {} (median, 95% CI)", whole.implementation),
        x_label: "the chain's steps, left to right as the scenario declares them".into(),
        y_label: "whole-process wall time".into(),
        groups: vec![BarGroup { label: chain.steps.iter().map(|s| s.implementation.as_str()).collect::<Vec<_>>().join(" → "), bars }],
        log_y: None,
        value_format: ValueFormat::Seconds,
        legend_title: "Implementation",
        in_given_order: true,
    })
}
