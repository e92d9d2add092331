stack      = "shop"
account_id = "123456789012"

variables {
  environment   = "prod"
  api_image_tag = "1.0.0"
  api_replicas  = 2
  db_password   = "demo-only-not-a-secret"
}
