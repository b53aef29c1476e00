"""The HTML report: built from results files only, so any old run can be re-reported."""
