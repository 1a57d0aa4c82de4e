//! The SQL of [`Dependents`], the same on both backends (`$1` is the parent's id).

use crate::lifecycle::Dependents;

impl Dependents {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            // Through the Site's Apps: the jobs the database's cascade (sites -> apps -> jobs)
            // deletes, found by `jobs_app_idx`.
            Dependents::SiteJobs => {
                "SELECT id FROM jobs WHERE app_id IN (SELECT id FROM apps WHERE site_id = $1) \
                 ORDER BY id"
            }
            Dependents::SiteSessions => "SELECT id FROM sessions WHERE site_id = $1 ORDER BY id",
            Dependents::SiteBatchJobs => "SELECT id FROM batch_jobs WHERE site_id = $1 ORDER BY id",
            Dependents::SiteApps => "SELECT id FROM apps WHERE site_id = $1 ORDER BY id",
            Dependents::AppJobs => "SELECT id FROM jobs WHERE app_id = $1 ORDER BY id",
            Dependents::BatchJobJobs => "SELECT id FROM jobs WHERE batch_job_id = $1 ORDER BY id",
            Dependents::BatchJobSessions => {
                "SELECT id FROM sessions WHERE batch_job_id = $1 ORDER BY id"
            }
            Dependents::SessionJobs => "SELECT id FROM jobs WHERE session_id = $1 ORDER BY id",
            Dependents::SessionRunningJobs => {
                "SELECT id FROM jobs WHERE session_id = $1 AND state = 'RUNNING' ORDER BY id"
            }
        }
    }
}
