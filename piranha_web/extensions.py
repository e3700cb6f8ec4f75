"""Flask extensions, created here and bound to the app in `create_app` (the flaskr/microblog habit)."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

db = SQLAlchemy()
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to use the console."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
