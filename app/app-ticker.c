/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-ticker.h"

struct _AppTicker {
  GtkWidget parent_instance;

  char *text;
  char *width_template;
  PangoLayout *layout;    /* of text; dropped when the text or the font changes */
};

G_DEFINE_FINAL_TYPE (AppTicker, app_ticker, GTK_TYPE_WIDGET)

static PangoLayout *
get_layout (AppTicker *self)
{
  if (self->layout == NULL)
    self->layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), self->text);
  return self->layout;
}

static void
app_ticker_measure (GtkWidget      *widget,
                    GtkOrientation  orientation,
                    int             for_size,
                    int            *minimum,
                    int            *natural,
                    int            *minimum_baseline,
                    int            *natural_baseline)
{
  AppTicker *self = APP_TICKER (widget);
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, self->width_template);
  int width, height;

  pango_layout_get_pixel_size (layout, &width, &height);
  /* Without a template it takes the width it is given and cuts its text there. */
  if (self->width_template[0] == '\0')
    width = 0;
  *minimum = *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? width : height;
}

static void
app_ticker_snapshot (GtkWidget   *widget,
                     GtkSnapshot *snapshot)
{
  AppTicker *self = APP_TICKER (widget);
  GdkRGBA color;

  if (self->text == NULL || *self->text == '\0')
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                                         gtk_widget_get_height (widget)));
  gtk_snapshot_append_layout (snapshot, get_layout (self), &color);
  gtk_snapshot_pop (snapshot);
}

static void
app_ticker_css_changed (GtkWidget         *widget,
                        GtkCssStyleChange *change)
{
  AppTicker *self = APP_TICKER (widget);

  GTK_WIDGET_CLASS (app_ticker_parent_class)->css_changed (widget, change);
  g_clear_object (&self->layout);
  gtk_widget_queue_resize (widget);
}

static void
app_ticker_finalize (GObject *object)
{
  AppTicker *self = APP_TICKER (object);

  g_free (self->text);
  g_free (self->width_template);
  g_clear_object (&self->layout);
  G_OBJECT_CLASS (app_ticker_parent_class)->finalize (object);
}

static void
app_ticker_class_init (AppTickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = app_ticker_finalize;
  widget_class->measure = app_ticker_measure;
  widget_class->snapshot = app_ticker_snapshot;
  widget_class->css_changed = app_ticker_css_changed;
  gtk_widget_class_set_css_name (widget_class, "ticker");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LABEL);
}

static void
app_ticker_init (AppTicker *self)
{
  /* Built from a template (no app_ticker_new()): as wide as it is allocated until told. */
  self->width_template = g_strdup ("");
}

GtkWidget *
app_ticker_new (const char *width_template)
{
  AppTicker *self = g_object_new (APP_TYPE_TICKER, NULL);

  g_free (self->width_template);
  self->width_template = g_strdup (width_template ? width_template : "");
  return GTK_WIDGET (self);
}

void
app_ticker_set_text (AppTicker  *self,
                     const char *text)
{
  g_return_if_fail (APP_IS_TICKER (self));

  if (g_strcmp0 (self->text, text) == 0)
    return;
  g_free (self->text);
  self->text = g_strdup (text);
  g_clear_object (&self->layout);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
app_ticker_get_text (AppTicker *self)
{
  g_return_val_if_fail (APP_IS_TICKER (self), NULL);
  return self->text ? self->text : "";
}

void
app_ticker_set_width_template (AppTicker  *self,
                               const char *width_template)
{
  g_return_if_fail (APP_IS_TICKER (self));

  if (g_strcmp0 (self->width_template, width_template ? width_template : "") == 0)
    return;
  g_free (self->width_template);
  self->width_template = g_strdup (width_template ? width_template : "");
  gtk_widget_queue_resize (GTK_WIDGET (self));
}
