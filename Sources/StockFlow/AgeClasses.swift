import Model

/// The age classes of the aggregate model: one per month of age when ages change or are read (the
/// last one open), else one per age band of the age multipliers. `girfec export` writes the same
/// classes (`Interchange`), so both read them here.
public enum AgeClasses {
    /// Month classes for ages up to the age-out month, or beyond every age the run can reach: the
    /// oldest age drawn plus, with ageing, the horizon's months.
    public static func monthCount(_ arm: ArmModel) -> Int {
        let oldest = (arm.ageDistribution.map(\.toMonths).max() ?? 1) + (arm.ageing ? arm.steps * arm.stepMonths + 1 : 0)
        return max(arm.ageOutMonths ?? oldest, 1)
    }

    /// The expected share of a set of children (ages drawn from `bands`, uniform within a band) in
    /// each of `classCount` classes: by month (`monthly`, the last class open) or by age band.
    public static func shares(_ bands: [AgeShare], arm: ArmModel, classCount: Int, monthly: Bool) -> [Double] {
        var shares = [Double](repeating: 0, count: classCount)
        for band in bands where band.toMonths > band.fromMonths {
            let perMonth = band.share / Double(band.toMonths - band.fromMonths)
            for month in band.fromMonths..<band.toMonths {
                let c = monthly ? min(month, classCount - 1) : (arm.ageMultipliers.lastIndex { $0.fromMonths <= month } ?? 0)
                shares[c] += perMonth
            }
        }
        return shares
    }
}
