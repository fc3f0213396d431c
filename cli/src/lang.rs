//! The voter's language in the CLI: `--lang en|zh-CN`, else the locale (`LC_ALL`,
//! `LC_MESSAGES`, `LANG`, as POSIX orders them). What a voter reads — the manifest's titles and
//! names in that language (`specs/election.md` §2.4), Yes/No/Blank, the instructions, the
//! refusals of an answer and the summary — is said here; the libraries' own messages stay
//! English (they are for logs and officials).

use clap::ValueEnum;
use urna_election::ballot::Preference;
use urna_election::manifest::{Contest, ContestKind, ContestOption, CountMethod};
use urna_voter::choices::{self, AnswerError, Answers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    #[value(name = "en")]
    En,
    #[value(name = "zh-CN", alias = "zh")]
    ZhCn,
}

impl Lang {
    /// `--lang` if given, else the first locale variable set (`zh…` is Simplified Chinese).
    pub fn pick(flag: Option<Lang>) -> Lang {
        flag.unwrap_or_else(|| {
            let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .filter_map(|v| std::env::var(v).ok())
                .find(|v| !v.is_empty())
                .unwrap_or_default();
            Lang::from_locale(&locale)
        })
    }

    /// `zh_CN.UTF-8`, `zh-CN`, `zh`: Chinese; anything else English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }

    /// The BCP 47 tag the manifest's translations are picked by.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// One of two texts, by language.
    pub fn say<T>(self, en: T, zh: T) -> T {
        match self {
            Lang::En => en,
            Lang::ZhCn => zh,
        }
    }

    /// An option's name: a referendum's fixed options in the voter's words, others as the
    /// manifest names them in the voter's language.
    pub fn option_name(self, c: &Contest, o: &ContestOption) -> String {
        if matches!(c.kind, ContestKind::Referendum { .. }) && self == Lang::ZhCn {
            match o.id.as_str() {
                "yes" => return "赞成".into(),
                "no" => return "反对".into(),
                "blank" => return "空白票".into(),
                _ => {}
            }
        }
        o.name_in(self.tag()).to_string()
    }

    /// What a contest asks of the voter, in words.
    pub fn instructions(self, c: &Contest) -> String {
        if self == Lang::En {
            return choices::instructions(c);
        }
        if let Some(r) = c.ranked() {
            let ranks = usize::from(r.ranks);
            let mut s = if ranks >= c.options.len() + usize::from(r.write_ins) {
                "按偏好顺序排列候选人，第一选择在前，可以排列任意多位".to_string()
            } else {
                format!("按偏好顺序最多排列 {ranks} 位候选人，第一选择在前")
            };
            if r.write_ins > 0 {
                s.push_str(&format!(
                    "；最多自行填写 {} 个名字（write-in:名字）",
                    r.write_ins
                ));
            }
            s.push_str(&match r.method {
                CountMethod::Irv => "；以即时决选计票".to_string(),
                CountMethod::Stv => format!("；以单记可转移投票计票，选出 {} 席", r.seats),
                CountMethod::Schulze => "；以孔多塞（舒尔策）法计票".to_string(),
            });
            return s;
        }
        let r = c.rule();
        if r.per_option_max == 1 {
            let top = r.total_max.min(c.options.len() as u32);
            match (r.total_min, top) {
                (a, b) if a == b => format!("选择 {a} 项"),
                (0, b) => format!("最多选择 {b} 项（也可以不选，留空）"),
                (a, b) => format!("选择 {a} 至 {b} 项"),
            }
        } else if r.total_max < u32::from(r.per_option_max) * c.options.len() as u32 {
            format!(
                "每个选项给 0 至 {} 分，总分不超过 {} 分",
                r.per_option_max, r.total_max
            )
        } else {
            format!("每个选项给 0 至 {} 分", r.per_option_max)
        }
    }

    /// How to type an answer to this contest.
    pub fn how_to_answer(self, c: &Contest) -> &'static str {
        match (c.ranked().is_some(), c.rule().per_option_max == 1) {
            (true, _) => self.say(
                "type the option ids in order of preference, first choice first, separated by commas or >; nothing to rank nobody",
                "按偏好顺序输入选项代号，第一选择在前，用逗号或 > 分隔；不输入则不排列任何人",
            ),
            (false, true) => self.say(
                "type the option ids, separated by commas",
                "输入选项代号，用逗号分隔",
            ),
            (false, false) => self.say(
                "type option:points pairs, separated by commas",
                "输入“选项代号:分数”，用逗号分隔",
            ),
        }
    }

    /// Why an answer cannot stand, in the voter's language.
    pub fn answer_error(self, e: &AnswerError) -> String {
        if self == Lang::En {
            return e.to_string();
        }
        match e {
            AnswerError::UnknownOption { given, known } => {
                format!("“{given}”不是选项之一（选项：{known}）")
            }
            AnswerError::BadValue(item) => format!("“{item}”不是“选项代号”或“选项代号:分数”"),
            AnswerError::RepeatedOption(o) => format!("{o} 填了两次"),
            AnswerError::NotScored { option_id } => {
                format!("选项只能选或不选：只输入“{option_id}”，不要加数字")
            }
            AnswerError::AboveMax { option, value, max } => {
                format!("{option}：{value} 分，超过每项最多 {max} 分")
            }
            AnswerError::TooMany { total, max } => format!("选了 {total} 项；最多只能选 {max} 项"),
            AnswerError::OverBudget { total, max } => {
                format!("总共 {total} 分；最多只能给 {max} 分")
            }
            AnswerError::TooFew { total, min } => format!("选了 {total} 项；至少要选 {min} 项"),
            AnswerError::WrongCount { expected, got } => {
                format!("应有 {expected} 个值，实际 {got} 个")
            }
            AnswerError::NotOnBallot => "此选举项不在这位选民的选票上".into(),
            AnswerError::RankedTwice(name) => format!("{name} 排了两次；每位候选人只能排一次"),
            AnswerError::TooManyRanks { got, max } => {
                format!("排了 {got} 位；最多只能排 {max} 位")
            }
            AnswerError::NoWriteIns => "此选举项不接受自行填写的名字".into(),
            AnswerError::TooManyWriteIns(n) => format!("最多只能自行填写 {n} 个名字"),
            AnswerError::WriteInText => {
                "自行填写的名字格式为“write-in:名字”，名字不能为空、不能含逗号，首尾不能有空格"
                    .into()
            }
            AnswerError::WriteInTooLong { name, len, max } => {
                format!("名字“{name}”有 {len} 字节；最多 {max} 字节")
            }
            AnswerError::NotRanked => "请按顺序排列选项代号，不要给分数".into(),
        }
    }

    /// One contest's answer in words: the options chosen (points in a score contest), the
    /// ranking in order, or blank.
    pub fn describe(self, answers: &Answers, c: &Contest) -> String {
        if c.ranked().is_some() {
            let prefs: &[Preference] = answers.rankings.0.get(&c.id).map_or(&[], Vec::as_slice);
            if prefs.is_empty() {
                return self.say("(nobody ranked)", "（未排列任何人）").into();
            }
            return prefs
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let name = match p {
                        Preference::Option(id) => c
                            .options
                            .iter()
                            .find(|o| &o.id == id)
                            .map_or(id.clone(), |o| self.option_name(c, o)),
                        Preference::WriteIn(t) => {
                            format!("{t}{}", self.say(" (write-in)", "（自行填写）"))
                        }
                    };
                    format!("{}. {name}", k + 1)
                })
                .collect::<Vec<_>>()
                .join("  ");
        }
        let values = answers
            .choices
            .0
            .get(&c.id)
            .cloned()
            .unwrap_or_else(|| vec![0; c.options.len()]);
        let scored = c.rule().per_option_max > 1;
        let chosen: Vec<String> = c
            .options
            .iter()
            .zip(&values)
            .filter(|(_, v)| **v > 0)
            .map(|(o, v)| {
                let name = self.option_name(c, o);
                if scored {
                    format!("{name}: {v}")
                } else {
                    name
                }
            })
            .collect();
        if chosen.is_empty() {
            self.say("(blank)", "（空白）").into()
        } else {
            chosen.join(self.say(", ", "、"))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use urna_election::manifest::Manifest;

    #[test]
    fn the_locale_picks_the_language_and_chinese_is_said_in_chinese() {
        assert_eq!(Lang::from_locale("zh_CN.UTF-8"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("zh-CN"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("en_GB.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale(""), Lang::En);
        assert_eq!(Lang::pick(Some(Lang::ZhCn)), Lang::ZhCn);
        let m = Manifest::from_toml(include_str!("../../specs/examples/manifest.toml")).unwrap();
        let contest = |id: &str| m.contests.iter().find(|c| c.id == id).unwrap();
        let zh = Lang::ZhCn;
        assert_eq!(zh.instructions(contest("mayor")), "选择 1 项");
        assert_eq!(
            zh.instructions(contest("budget")),
            "每个选项给 0 至 5 分，总分不超过 8 分"
        );
        let measure = contest("measure-a");
        let names: Vec<String> = measure
            .options
            .iter()
            .map(|o| zh.option_name(measure, o))
            .collect();
        assert!(names.starts_with(&["赞成".to_string(), "反对".to_string()]));
        assert_eq!(
            zh.answer_error(&AnswerError::TooMany { total: 3, max: 2 }),
            "选了 3 项；最多只能选 2 项"
        );
        let mut a = Answers::default();
        a.choices.0.insert("measure-a".into(), vec![1, 0, 0]);
        assert_eq!(zh.describe(&a, measure), "赞成");
        assert_eq!(
            zh.describe(&Answers::default(), contest("council")),
            "（空白）"
        );
        assert_eq!(Lang::En.describe(&a, measure), "Yes");
    }
}
