//! The machine a run measures on, for run.json: CPU model, core count and kernel,
//! read from `/proc` (Linux only, like the rest of this crate).

use results::Machine;

pub fn this_machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")
            .and_then(|r| r.split_once(':'))
            .map(|(_, m)| m.trim().to_string())
    });
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .ok();
    Machine {
        cpu_model,
        cores: Some(cores as u32),
        kernel,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_machine_has_cores_and_a_kernel() {
        let m = super::this_machine();
        assert!(m.cores.unwrap() >= 1);
        assert!(!m.kernel.unwrap().is_empty());
    }
}
