/* prunelab-cli in Simplified Chinese, as a user in a zh_CN.UTF-8 session runs it: the help, the
 * progress, the results and an error message come in Chinese, and the long help wraps Chinese
 * text within the terminal width. meson test sets LANG=zh_CN.UTF-8 and LANGUAGE=zh_CN. */
#include "config.h"

#include "pl-test-cli.h"

#include <locale.h>
#include <string.h>

static const char *cli_path;

static void
test_help_is_chinese (void)
{
  g_auto(PlTestRun) r = { 0 };

  pl_test_run_cli (&r, cli_path, "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "用法：prunelab-cli 命令 [选项…]"));
  g_assert_nonnull (strstr (r.out, "训练一个多层感知机并报告其准确率"));
  /* command names stay as typed */
  g_assert_nonnull (strstr (r.out, "  train "));
  g_assert_null (strstr (r.out, "Train a multi-layer perceptron"));
}

static void
test_train_reports_in_chinese (void)
{
  g_auto(PlTestRun) r = { 0 };

  pl_test_run_cli (&r, cli_path, "train", "--data", "spiral:n=300", "--epochs", "2", NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* progress on stderr, the result on stdout */
  g_assert_nonnull (strstr (r.err, "第 2/2 轮  训练损失 "));
  g_assert_nonnull (strstr (r.err, "数据集 spiral"));
  g_assert_nonnull (strstr (r.out, "测试准确率 "));
  g_assert_nonnull (strstr (r.out, "个参数，"));
  g_assert_null (strstr (r.out, "test accuracy"));
}

static void
test_errors_are_chinese (void)
{
  g_auto(PlTestRun) bad_arch = { 0 };
  g_auto(PlTestRun) bad_option = { 0 };

  /* the spiral has 2 features and 3 classes: a 3-input network does not fit it */
  pl_test_run_cli (&bad_arch, cli_path, "train", "--data", "spiral", "--arch", "3-5", NULL);
  g_assert_cmpint (bad_arch.status, ==, 2);
  g_assert_nonnull (strstr (bad_arch.err, "网络结构 3-5 与 “spiral” 不匹配：它需要 2 个输入和至少 3 个输出"));

  pl_test_run_cli (&bad_option, cli_path, "train", "--data", "spiral", "--epochs", "-1", NULL);
  g_assert_cmpint (bad_option.status, ==, 2);
  g_assert_nonnull (strstr (bad_option.err, "--epochs 必须是一个从 0 到 100000 的整数，而不是 “-1”"));
  g_assert_nonnull (strstr (bad_option.err, "运行 “prunelab-cli train --help” 查看选项。"));
}

/* Terminal columns of a line: wide (CJK) characters take two */
static guint
columns (const char *line)
{
  guint n = 0;

  for (const char *p = line; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      n += g_unichar_iszerowidth (c) ? 0 : g_unichar_iswide (c) ? 2 : 1;
    }
  return n;
}

static void
test_schedule_help_wraps_chinese (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_auto(GStrv) lines = NULL;
  g_autofree char *section = NULL;
  const char *closing[] = { "，", "。", "、", "：", "；", "）", "”" };
  const char *opening[] = { "（", "“" };
  const char *methods, *end;
  guint wrapped = 0;

  pl_test_run_cli (&r, cli_path, "schedule", "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  methods = strstr (r.out, "方法：\n");
  g_assert_nonnull (methods);
  end = strstr (methods, "梯度裁剪（train");
  g_assert_nonnull (end);
  section = g_strndup (methods, end - methods);
  lines = g_strsplit (section, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *text = lines[i] + strspn (lines[i], " ");

      g_test_message ("%2u %s", columns (lines[i]), lines[i]);
      g_assert_cmpuint (columns (lines[i]), <=, 96);
      /* Chinese line breaking: no line opens with closing punctuation or ends with opening */
      for (guint k = 0; k < G_N_ELEMENTS (closing); k++)
        g_assert_false (g_str_has_prefix (text, closing[k]));
      for (guint k = 0; k < G_N_ELEMENTS (opening); k++)
        g_assert_false (g_str_has_suffix (text, opening[k]));
      /* an explanation line, indented by four, that is not the last of its paragraph */
      if (g_str_has_prefix (lines[i], "    ") && lines[i + 1] != NULL && g_str_has_prefix (lines[i + 1], "    "))
        {
          wrapped++;
          g_assert_cmpuint (columns (lines[i]), >=, 80);
        }
    }
  /* seven methods, each explanation longer than one line */
  g_assert_cmpuint (wrapped, >=, 7);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cli_path = g_getenv ("PRUNELAB_CLI");
  if (cli_path == NULL)
    {
      g_printerr ("PRUNELAB_CLI must name the prunelab-cli binary\n");
      return 1;
    }
  if (setlocale (LC_ALL, "") == NULL || !g_str_has_prefix (setlocale (LC_MESSAGES, NULL), "zh_CN"))
    {
      g_test_message ("the zh_CN.UTF-8 locale is not available (locale-gen zh_CN.UTF-8); LANG=%s",
                      g_getenv ("LANG"));
      return 77;
    }
  g_test_add_func ("/cli/zh_CN/help", test_help_is_chinese);
  g_test_add_func ("/cli/zh_CN/train-spiral", test_train_reports_in_chinese);
  g_test_add_func ("/cli/zh_CN/errors", test_errors_are_chinese);
  g_test_add_func ("/cli/zh_CN/schedule-help-wraps-by-width", test_schedule_help_wraps_chinese);
  return g_test_run ();
}
